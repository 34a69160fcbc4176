# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import io
import re
import tempfile
import xmlrpc.client
from pathlib import Path

import polib
from lxml import etree

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger
from odoo.tools.translate import TranslationFileWriter, TranslationModuleReader

from .common import SalesProcessCase, copy_addon

I18N = Path(__file__).resolve().parents[1] / "i18n"
LANGS = {"fr_FR": "fr.po", "de_DE": "de.po"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sdr]|\{\w*\}")


class _CleanCopyReader(TranslationModuleReader):
    """Odoo's export, its code terms read from a clean copy of the addon (as
    bin/i18n does): the checkout's folder also holds .venv and .cache, which
    the export would scan as the addon's."""

    def __init__(self, cr, modules, folder):
        self._folder = folder
        super().__init__(cr, modules=modules)

    def _export_translatable_resources(self):
        self._path_list = [(self._folder, True)]
        return super()._export_translatable_resources()


@tagged("post_install", "-at_install")
class TestI18n(HttpCase, SalesProcessCase):
    """French and German speak the whole addon: refusals over XML-RPC, the
    lead form's buttons and steps; the template holds every term."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for lang in LANGS:
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"]._load_module_terms(["crm_sales_process"], list(LANGS), overwrite=True)
        cls.salesman.lang = "fr_FR"

    def test_template_has_every_term(self):
        """The .pot holds every term Odoo's export finds now (bin/i18n
        writes it again when one is missing)."""
        buffer = io.BytesIO()
        # inside the addons path (the addon's own ignored .cache): Odoo's
        # file_open reads nothing outside it
        scratch = Path(__file__).parents[1] / ".cache"
        scratch.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch) as folder:
            copy_addon(folder)
            reader = _CleanCopyReader(self.env.cr, ["crm_sales_process"], folder)
            TranslationFileWriter(buffer, fileformat="po", lang=None).write_rows(reader)
        exported = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode())}
        committed = {entry.msgid for entry in polib.pofile(str(I18N / "crm_sales_process.pot"))}
        self.assertGreater(len(exported), 300)
        missing = sorted(exported - committed)
        self.assertFalse(
            missing, f"{len(missing)} term(s) missing from i18n/crm_sales_process.pot (run bin/i18n): {missing[:10]}"
        )

    def test_every_term_translated_with_its_placeholders(self):
        template = polib.pofile(str(I18N / "crm_sales_process.pot"))
        for lang, name in LANGS.items():
            translations = {entry.msgid: entry for entry in polib.pofile(str(I18N / name)) if not entry.obsolete}
            for source in template:
                with self.subTest(lang=lang, msgid=source.msgid[:60]):
                    entry = translations.get(source.msgid)
                    self.assertTrue(entry and entry.msgstr.strip(), "untranslated")
                    self.assertNotIn("fuzzy", entry.flags)
                    self.assertEqual(
                        sorted(PLACEHOLDER.findall(entry.msgstr)), sorted(PLACEHOLDER.findall(source.msgid))
                    )

    def test_translations_load_cleanly(self):
        with self.assertNoLogs(level="WARNING"):
            self.env["ir.module.module"]._load_module_terms(["crm_sales_process"], list(LANGS), overwrite=True)

    @mute_logger("odoo.http")
    def test_refusal_over_xmlrpc_in_french(self):
        process = self._process_at("new_opportunity")
        uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, "sp_salesman", "sp_salesman", {})
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.xmlrpc_object.execute_kw(
                self.env.cr.dbname,
                uid,
                "sp_salesman",
                "crm.sales.process",
                "run_transition",
                [[process.id], "close_as_won", {"close_revenue": False}],
                {"context": {"lang": "fr_FR"}},
            )
        message = caught.exception.faultString
        french = self.env(context={"lang": "fr_FR"})
        transition = self.env.ref("crm_sales_process.transition_close_as_won").with_env(french)
        label = french["crm.sales.process.transition.wizard"]._fields["close_revenue"]._description_string(french)
        expected = {
            "transition": transition.name,
            "step": process.step_id.with_env(french).name,
            "field": label,
            "refusal": polib.pofile(str(I18N / "fr.po")).find("missing %(fields)s").msgstr.split("%")[0].strip(),
        }
        for what, text in expected.items():
            with self.subTest(what=what):
                self.assertIn(text, message)
        self.assertNotEqual(transition.name, "Close as Won")
        self.assertNotEqual(label, "Close Revenue")
        self.assertNotIn("cannot run on", message)

    def test_lead_form_in_french_and_german(self):
        process = self._process_at("new_lead")
        for lang in LANGS:
            with self.subTest(lang=lang):
                env = self.env(user=self.salesman, context={"lang": lang})
                Lead = env["crm.lead"]
                arch = etree.fromstring(Lead.get_views([(False, "form")])["views"]["form"]["arch"])
                labels = {button.get("string") for button in arch.iterfind(".//header/button")}
                for code in ("qualify", "disqualify", "close_as_won"):
                    transition = self.env.ref(f"crm_sales_process.transition_{code}")
                    translated = transition.with_env(env).name
                    self.assertNotEqual(translated, transition.name)
                    self.assertIn(translated, labels)
                # the statusbar of the process steps, as the form reads it
                record = Lead.browse(process.lead_id.id)
                steps = record.web_read({"sales_process_step_id": {"fields": {"display_name": {}}}})
                step = self.steps["new_lead"]
                self.assertEqual(steps[0]["sales_process_step_id"]["display_name"], step.with_env(env).name)
                self.assertNotEqual(step.with_env(env).name, "New Lead")

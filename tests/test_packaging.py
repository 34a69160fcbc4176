# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import email.parser
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import venv
import zipfile
from pathlib import Path

from odoo.tests import BaseCase

from .common import copy_addon

# Run in the throw-away environment, with no --addons-path and no config file.
LIST_MODULES = """
import json, odoo.addons
from odoo.tools import config
from odoo.modules import module
config.parse_config([])
module.initialize_sys_path()
manifest = module.Manifest.for_addon("crm_sales_process")
print(json.dumps({
    "listed": "crm_sales_process" in module.get_modules(),
    "path": manifest and manifest.path,
    "version": manifest and manifest.version,
    "depends": manifest and list(manifest["depends"]),
}))
"""


class TestPackaging(BaseCase):
    """pyproject.toml builds a wheel with whool, as OCA's addons do, named
    after the addon whatever the folder it is built in: a clone of another
    name (`pip wheel .`), pip's temporary checkout of a git URL (`pip install
    git+URL`). Installed into an environment that has Odoo, the addon needs
    no addons path."""

    def _run(self, *command, **options):
        result = subprocess.run(command, capture_output=True, text=True, check=False, **options)
        if result.returncode:
            self.fail(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def _pip(self, *args, python=sys.executable, cwd=None):
        # offline: whool and its requirements are this environment's
        pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
        return self._run(*pip, *args, "--no-deps", "--no-index", "--no-build-isolation", "--quiet", cwd=cwd)

    def _clone_of_another_name(self, tmp):
        """The addon's files committed in a git repository whose folder is
        not named after the addon, as a clone of it can be."""
        checkout = copy_addon(tmp, name="csp-clone")
        git = ["git", "-C", checkout, "-c", "user.name=Test", "-c", "user.email=test@example.com"]
        self._run(*git, "init", "--quiet")
        self._run(*git, "add", "--all")
        self._run(*git, "-c", "commit.gpgsign=false", "commit", "--quiet", "--message", "The addon")
        return checkout

    def _environment_with_this_odoo(self, folder):
        """A throw-away environment that has the same Odoo: this one's
        site-packages as a site folder of its own (its .pth files too, Odoo
        being installed in editable mode), nothing else."""
        venv.create(folder, with_pip=False)
        python = folder / "bin" / "python"
        site = self._run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
        Path(site, "same_odoo.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
        return python, site

    def _listed(self, python, cwd):
        clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ODOO_RC", "VIRTUAL_ENV")}
        listing = self._run(python, "-c", LIST_MODULES, cwd=cwd, env=clean_env)
        return json.loads(listing.strip().splitlines()[-1])

    def test_wheel_of_a_clone_of_another_name(self):
        with tempfile.TemporaryDirectory(prefix="csp-wheel-") as tmp:
            tmp = Path(tmp)
            checkout = self._clone_of_another_name(tmp)
            self._pip("wheel", "--wheel-dir", tmp / "dist", ".", cwd=checkout)
            wheels = list((tmp / "dist").glob("*.whl"))
            self.assertEqual(len(wheels), 1, wheels)
            wheel = wheels[0]
            self.assertRegex(wheel.name, r"^odoo_addon_crm_sales_process-19\.0\.[\d.]+(\.dev\d+)?-py3-none-any\.whl$")

            with zipfile.ZipFile(wheel) as archive:
                names = set(archive.namelist())
                metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
                metadata = email.parser.HeaderParser().parsestr(archive.read(metadata_name).decode())
            self.assertEqual(metadata["Name"], "odoo-addon-crm_sales_process")
            self.assertIn("odoo==19.0.*", metadata.get_all("Requires-Dist"))
            for name in (
                "__manifest__.py",
                "__init__.py",
                "models/crm_sales_process.py",
                "views/crm_sales_process_views.xml",
                "security/ir.model.access.csv",
            ):
                self.assertIn(f"odoo/addons/crm_sales_process/{name}", names)
            self.assertNotIn("odoo/addons/crm_sales_process/pyproject.toml", names)
            self.assertFalse([name for name in names if "csp-clone" in name or "csp_clone" in name])

            python, site = self._environment_with_this_odoo(tmp / "env")
            self._pip("install", wheel, python=python)
            found = self._listed(python, tmp)
        self.assertTrue(found["listed"], found)
        self.assertEqual(found["path"], os.path.join(site, "odoo", "addons", "crm_sales_process"))
        self.assertEqual(found["depends"], ["crm"])
        self.assertTrue(found["version"].startswith("19.0."), found)

    def test_pip_install_of_a_git_url(self):
        """pip clones a git+ URL into a folder of a random name and builds it
        there."""
        with tempfile.TemporaryDirectory(prefix="csp-git-") as tmp:
            tmp = Path(tmp)
            checkout = self._clone_of_another_name(tmp)
            python, site = self._environment_with_this_odoo(tmp / "env")
            self._pip("install", f"git+file://{checkout}", python=python)
            installed = sorted(path.name for path in Path(site, "odoo", "addons").iterdir())
            found = self._listed(python, tmp)
        self.assertEqual(installed, ["crm_sales_process"])
        self.assertTrue(found["listed"], found)
        self.assertEqual(found["path"], os.path.join(site, "odoo", "addons", "crm_sales_process"))
        self.assertEqual(found["depends"], ["crm"])

    def test_odoo_runs_every_test_module(self):
        """Odoo's own test runner (--test-enable, OCA's CI) runs only the
        test modules tests/__init__.py imports; pytest collects the files."""
        tests = Path(__file__).parent
        files = {path.stem for path in tests.glob("test_*.py")}
        imported = set((tests / "__init__.py").read_text().replace("from . import ", "").split())
        self.assertEqual(files - imported, set(), "test modules Odoo's runner would leave out")

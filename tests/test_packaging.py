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
    """pyproject.toml builds a wheel with whool, as OCA's addons do; installed
    into an environment that has Odoo, the addon needs no addons path."""

    def _run(self, *command, **options):
        result = subprocess.run(command, capture_output=True, text=True, check=False, **options)
        if result.returncode:
            self.fail(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def test_wheel_installs_the_addon_without_addons_path(self):
        with tempfile.TemporaryDirectory(prefix="csp-wheel-") as tmp:
            tmp = Path(tmp)
            addon = copy_addon(tmp)
            self._run(
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "--quiet",
                "--disable-pip-version-check",
                "-w",
                str(tmp / "dist"),
                str(addon),
            )
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

            # a throw-away environment that has the same Odoo (this one's
            # site-packages, through a .pth file), the wheel installed alone
            env_dir = tmp / "env"
            venv.create(env_dir, with_pip=False)
            env_python = env_dir / "bin" / "python"
            env_site = self._run(env_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
            Path(env_site, "same_odoo.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
            self._run(
                sys.executable,
                "-m",
                "pip",
                "--python",
                env_python,
                "install",
                "--no-deps",
                "--no-index",
                "--quiet",
                "--disable-pip-version-check",
                wheel,
            )
            clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ODOO_RC", "VIRTUAL_ENV")}
            listing = self._run(env_python, "-c", LIST_MODULES, cwd=tmp, env=clean_env)
            found = json.loads(listing.strip().splitlines()[-1])
        self.assertTrue(found["listed"], found)
        self.assertEqual(found["path"], os.path.join(env_site, "odoo", "addons", "crm_sales_process"))
        self.assertEqual(found["depends"], ["crm"])
        self.assertTrue(found["version"].startswith("19.0."), found)

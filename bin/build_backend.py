# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""The build backend of pyproject.toml: whool, OCA's, under the addon's name
whatever the folder it builds in is called.

whool names the addon after the folder it builds in, and pip builds
`pip install git+URL` in a temporary folder of a random name
(pip-req-build-...), as `pip wheel .` builds a clone of any name: the wheel
would install odoo/addons/pip_req_build_..., which Odoo cannot install as
crm_sales_process. Here whool builds from a link named crm_sales_process to
that folder; all the rest is whool's (the files git tracks, the version from
the manifest and git, the dependencies on Odoo and other addons). It calls
whool's functions that take the folder, which its PEP 517 ones do not: the
pin in pyproject.toml keeps them there."""

import contextlib
import tempfile
from pathlib import Path

from whool import buildapi

ADDON = "crm_sales_process"


@contextlib.contextmanager
def _as_addon(folder):
    """``folder`` under the addon's name: itself, or a link to it."""
    if folder.name == ADDON:
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="whool-") as scratch:
        link = Path(scratch, ADDON)
        link.symlink_to(folder, target_is_directory=True)
        yield link


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with _as_addon(Path.cwd()) as addon:
        return buildapi._build_wheel(addon, Path(wheel_directory), editable=False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    folder = Path.cwd()
    with _as_addon(folder) as addon:
        name = buildapi._build_wheel(addon, Path(wheel_directory), editable=True)
    # whool links build/__editable__/odoo/addons/crm_sales_process to the
    # folder it built from: the folder itself, not the link, which is gone
    link = folder / "build" / "__editable__" / "odoo" / "addons" / ADDON
    link.unlink()
    link.symlink_to(folder, target_is_directory=True)
    return name


def build_sdist(sdist_directory, config_settings=None):
    with _as_addon(Path.cwd()) as addon:
        return buildapi._build_sdist(addon, Path(sdist_directory))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with _as_addon(Path.cwd()) as addon:
        return buildapi._make_dist_info(buildapi._get_metadata(addon), Path(metadata_directory))


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel

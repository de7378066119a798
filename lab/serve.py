"""Serves lab/build (the JupyterLab 3.6 front end built from its npm packages) with Debian's jupyter-server and
jupyterlab-server: the server side a `pip install jupyterlab` would bring, minus the Python wheel.

Run by scripts/lab.ts (`npm run lab`) and the JupyterLab live test; every jupyter-server option passes through,
e.g. `--ServerApp.root_dir=DIR --ServerApp.token=T --ServerApp.port=P`.
"""
import json
import os
import sys

from jupyterlab_server import LabServerApp
from jupyter_server.utils import url_path_join
from tornado.web import StaticFileHandler
from traitlets import Bool, Unicode

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
MATHJAX = "/usr/share/javascript/mathjax"
MATHJAX_ROUTE = "/decomp-mathjax"


def _jupyter_server_extension_points():
    # jupyter-server finds the application through the module that launched it (here __main__).
    return [{"module": __name__, "app": DecompLab}]


# Plugins left out whatever the user's page config says: the news announcements would ask to fetch
# jupyter.org's feed, and a machine running these notebooks offline cannot; index.js honours this list.
DISABLED_PLUGINS = ["@jupyterlab/apputils-extension:announcements"]


def _disable_plugins(handler, page_config):
    disabled = page_config.get("disabledExtensions") or []
    page_config["disabledExtensions"] = list(disabled) + [p for p in DISABLED_PLUGINS if p not in disabled]
    return page_config


class DecompLab(LabServerApp):
    name = __name__
    app_name = "JupyterLab (decomp)"
    extension_url = "/lab"
    default_url = "/lab"
    # Only this front end: no other server extension installed on the machine is loaded beside it.
    load_other_extensions = False

    static_dir = BUILD
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    templates_dir = os.path.join(HERE, "templates")
    app_settings_dir = os.path.join(BUILD, "application_settings")

    # Per user, as JupyterLab keeps them (~/.jupyter/lab/...), under a folder of this build's own.
    user_settings_dir = Unicode(os.path.join(os.path.expanduser("~"), ".jupyter", "decomp-lab", "user-settings")).tag(config=True)
    workspaces_dir = Unicode(os.path.join(os.path.expanduser("~"), ".jupyter", "decomp-lab", "workspaces")).tag(config=True)

    expose_app_in_browser = Bool(False, help="Make the application reachable as window.jupyterapp (used by tests).").tag(config=True)

    def initialize_settings(self):
        super().initialize_settings()
        # self.settings is merged into the web application's settings after this method returns.
        # Terminals need terminado, which Debian's server packages do not pull in.
        self.settings["terminals_available"] = False
        self.settings.setdefault("page_config_data", {})["exposeAppInBrowser"] = self.expose_app_in_browser
        self.settings["page_config_hook"] = _disable_plugins
        # Formulas in Markdown cells: Debian's MathJax 2 (libjs-mathjax, which jupyter-notebook pulls in) instead of
        # the CDN jupyterlab-server falls back to, which a machine without internet cannot reach.
        self._serve_mathjax = os.path.exists(os.path.join(MATHJAX, "MathJax.js")) and not self.settings.get("mathjax_url")
        if self._serve_mathjax:
            self.settings["mathjax_url"] = url_path_join(self.serverapp.base_url, MATHJAX_ROUTE, "MathJax.js")

    def initialize_handlers(self):
        super().initialize_handlers()
        if self._serve_mathjax:
            self.handlers.append((MATHJAX_ROUTE + "/(.*)", StaticFileHandler, {"path": MATHJAX}))


def main():
    if not os.path.exists(os.path.join(BUILD, "bundle.js")):
        sys.exit(f"{BUILD} has no bundle.js: build the front end first (npm run lab builds it; or: cd lab && npm ci && npx webpack)")
    with open(os.path.join(HERE, "package.json")) as f:
        DecompLab.app_version = json.load(f)["version"]
    DecompLab.launch_instance()


if __name__ == "__main__":
    main()

/**
 * The JupyterLab 3.6 application, assembled from the npm packages named in package.json's "jupyterlab" field.
 * The imports below must list the same packages: webpack resolves them statically, and Build.ensureAssets
 * (webpack.config.js) reads the same list to copy their schemas, themes and styles into build/.
 */
import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

// Chunks and CSS assets load relative to where the server mounts build/; this must run before any of them.
// eslint-disable-next-line no-undef
__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

const styles = import('decomp-lab-styles');

const pluginModules = [
  import('@jupyterlab/application-extension'),
  import('@jupyterlab/apputils-extension'),
  import('@jupyterlab/codemirror-extension'),
  import('@jupyterlab/completer-extension'),
  import('@jupyterlab/console-extension'),
  import('@jupyterlab/docmanager-extension'),
  import('@jupyterlab/filebrowser-extension'),
  import('@jupyterlab/fileeditor-extension'),
  import('@jupyterlab/launcher-extension'),
  import('@jupyterlab/mainmenu-extension'),
  import('@jupyterlab/markdownviewer-extension'),
  import('@jupyterlab/mathjax2-extension'),
  import('@jupyterlab/notebook-extension'),
  import('@jupyterlab/rendermime-extension'),
  import('@jupyterlab/running-extension'),
  import('@jupyterlab/settingeditor-extension'),
  import('@jupyterlab/shortcuts-extension'),
  import('@jupyterlab/statusbar-extension'),
  import('@jupyterlab/theme-dark-extension'),
  import('@jupyterlab/theme-light-extension'),
  import('@jupyterlab/tooltip-extension'),
  import('@jupyterlab/translation-extension'),
  import('@jupyterlab/ui-components-extension')
];

// Output renderers: JSON, and Vega 5 / Vega-Lite (the charts decomp publishes).
const mimeModules = [
  import('@jupyterlab/json-extension'),
  import('@jupyterlab/vega5-extension')
];

// A module exports one plugin or a list; the server's page config can disable any of them by id (serve.py
// disables the news announcements, which would ask to fetch from the internet).
function enabled(module) {
  const exported = module.default;
  return (Array.isArray(exported) ? exported : [exported]).filter(
    plugin => !PageConfig.Extension.isDisabled(plugin.id)
  );
}

window.addEventListener('load', async () => {
  await styles;
  const mimeExtensions = (await Promise.all(mimeModules)).flatMap(enabled);
  const lab = new JupyterLab({ mimeExtensions });
  lab.registerPlugins((await Promise.all(pluginModules)).flatMap(enabled));
  // As JupyterLab's own build does: a server started with exposeAppInBrowser lets scripts (our live test) reach
  // the application's commands and widgets as window.jupyterapp.
  if (PageConfig.getOption('exposeAppInBrowser').toLowerCase() === 'true') {
    window.jupyterapp = lab;
  }
  await lab.start();
  await lab.restored;
  document.body.dataset.decompLab = 'ready';
});

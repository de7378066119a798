// Builds index.js into bundle.js, and (Build.ensureAssets) copies every extension's settings schemas, themes and
// style imports beside it. The output folder is build/, or DECOMP_LAB_OUT: scripts/lab-build.ts builds into a
// fresh folder and renames it to build/ when complete, so an interrupted build never leaves a partial one served.
const path = require('path');
const webpack = require('webpack');
const { Build } = require('@jupyterlab/builder');
const pkg = require('./package.json');

const output = path.resolve(process.env.DECOMP_LAB_OUT || path.join(__dirname, 'build'));
const assets = Build.ensureAssets({
  packageNames: [...pkg.jupyterlab.extensions, ...pkg.jupyterlab.mimeExtensions],
  output
});

const svgInCss = { loader: 'svg-url-loader', options: { encoding: 'none', limit: 10000 } };

module.exports = [
  {
    entry: ['whatwg-fetch', './index.js'],
    output: { path: output, filename: 'bundle.js' },
    bail: true,
    // Unminified and without source maps: the build is for running the notebooks, and this keeps it fast.
    mode: 'development',
    devtool: false,
    module: {
      rules: [
        { test: /\.css$/, use: ['style-loader', 'css-loader'] },
        { test: /\.html$/, type: 'asset/resource' },
        { test: /\.md$/, type: 'asset/source' },
        { test: /\.(jpg|png|gif)$/, type: 'asset/resource' },
        { test: /\.js\.map$/, type: 'asset/resource' },
        { test: /\.(woff2?|ttf|eot)(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
        // CSS wants SVGs as data URIs; the TypeScript packages import them as strings for their icons.
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.css$/, use: svgInCss },
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.js$/, type: 'asset/source' }
      ]
    },
    resolve: {
      // index.js imports the style list ensureAssets writes into the output folder, wherever that is.
      alias: { 'decomp-lab-styles$': path.join(output, 'style.js') },
      fallback: { path: require.resolve('path-browserify') }
    },
    plugins: [
      new webpack.DefinePlugin({ 'process.env': '{}', process: { cwd: () => '/' } })
    ]
  }
].concat(assets);

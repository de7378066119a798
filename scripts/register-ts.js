// Lets `node -r ./scripts/register-ts.js scripts/x.ts` run the project's TypeScript scripts without a build step.
// Transpile only: type checking is `npx tsc --noEmit -p .`, which covers scripts/ too.
const fs = require("fs");
const ts = require("typescript");

require.extensions[".ts"] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
    },
  });
  module._compile(outputText, filename);
};

// Files that Bun embeds into the compiled binary. `with { type: "file" }` yields a path
// (under /$bunfs/root/ once compiled); `with { type: "text" }` yields the file's contents.
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.md" {
  const content: string;
  export default content;
}
declare module "*.yaml" {
  const content: string;
  export default content;
}
declare module "*.txt" {
  const content: string;
  export default content;
}
declare module "*.sh" {
  const content: string;
  export default content;
}
// Tree-sitter highlight queries and the web viewer's embedded assets (imported as text).
declare module "*.scm" {
  const content: string;
  export default content;
}
declare module "*.css" {
  const content: string;
  export default content;
}
declare module "uplot/dist/uPlot.iife.min.js" {
  const content: string;
  export default content;
}
declare module "*/assets/app.js" {
  const content: string;
  export default content;
}
// The native capture helper, embedded by `bun build --compile` (src/supervisors/local/capture-impl.ts).
declare module "*/dist/native/capture" {
  const path: string;
  export default path;
}

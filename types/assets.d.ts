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

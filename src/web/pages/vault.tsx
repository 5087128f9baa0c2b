/** @jsxImportSource hono/jsx */
/**
 * @module
 * The vault: the list of notes by section, and one note rendered with its links working.
 */
import { raw } from "hono/html";
import { Layout, type PageCtx } from "./layout.tsx";

export function VaultIndexPage(props: {
  ctx: PageCtx;
  sections: Array<[string, string[]]>;
  enabled: boolean;
}) {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Vault" here="/vault" topics={[]}>
      {props.sections.length === 0 ? (
        <p class="muted">
          {props.enabled ? "No notes yet." : "The vault is disabled in this project's config."}
        </p>
      ) : (
        <div class="grid">
          {props.sections.map(([section, notes]) => (
            <section class="card">
              <h2>{section || "(top)"}</h2>
              <ul>
                {notes.map((n) => (
                  <li>
                    <a href={`${ctx.base}/vault/${n.split("/").map(encodeURIComponent).join("/")}`}>{n}</a>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </Layout>
  );
}

export function VaultNotePage(props: { ctx: PageCtx; note: string; html: string }) {
  return (
    <Layout ctx={props.ctx} title={props.note} here="/vault" topics={[]}>
      <p>
        <a href={`${props.ctx.base}/vault`}>← all notes</a>
      </p>
      <section class="card markdown">{raw(props.html)}</section>
    </Layout>
  );
}

/** @jsxImportSource hono/jsx */
/**
 * @module
 * Operator actions: a confirmation page (a POST form carrying the CSRF token) and the result.
 */
import { Layout, type PageCtx } from "./layout.tsx";

export const VERB_TEXT: Record<string, string> = {
  pause: "Pause: stop the child and keep it stopped (across monitor restarts) until resume.",
  resume: "Resume: start the child again after a pause.",
  abort: "Abort: stop the child and the monitor.",
  approve: "Approve: resume healing paused by the hourly budget or by a regression.",
};

export function ConfirmPage(props: { ctx: PageCtx; verb: string; detectors: string[] }) {
  const { ctx, verb } = props;
  return (
    <Layout ctx={ctx} title={`Confirm ${verb}`} here="" topics={[]}>
      <section class="card">
        <p>{VERB_TEXT[verb]}</p>
        <form method="post" action={`${ctx.base}/actions/${verb}`} class="confirm">
          <input type="hidden" name="_csrf" value={ctx.csrf} />
          {verb === "approve" ? (
            <p>
              <label>
                {"detector "}
                <select name="detector">
                  <option value="">every detector</option>
                  {props.detectors.map((d) => (
                    <option value={d}>{d}</option>
                  ))}
                </select>
              </label>
            </p>
          ) : null}
          <p>
            <label>
              {"reason (recorded in the journal) "}
              <input name="reason" size={50} />
            </label>
          </p>
          <div class="actions">
            <button type="submit" class={verb === "abort" ? "danger" : ""} id="confirm">
              {`Yes, ${verb}`}
            </button>
            <a class="button quiet" href={ctx.base || "/"}>
              Cancel
            </a>
          </div>
        </form>
      </section>
    </Layout>
  );
}

export function MessagePage(props: { ctx: PageCtx; title: string; message: string; ok: boolean }) {
  return (
    <Layout ctx={props.ctx} title={props.title} here="" topics={[]}>
      <section class="card">
        <p class={props.ok ? "" : "error"} id="result">
          {props.message}
        </p>
        <p>
          <a href={props.ctx.base || "/"}>← overview</a>
        </p>
      </section>
    </Layout>
  );
}

/**
 * @module
 * Does anything deliver the chat outboxes? (`doctor`, `config validate`.) An outbox notifier only
 * queues lines; without `dispatch.bridge: true` or a running `autosentry dispatcher run` (seen by
 * its lock) they are never sent. Also: a bridge without chat credentials, and a signed webhook
 * whose secret variable is unset.
 */
import * as path from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import { outboxPathOf } from "../notify/build.ts";
import { DispatchSetupError, setupDispatch } from "./select.ts";
import { dispatcherAlive } from "./service.ts";

export interface DeliveryFinding {
  level: "ok" | "warn";
  name: string;
  detail: string;
}

/** One finding per outbox notifier (and per signed webhook whose secret is missing). */
export function deliveryFindings(
  cfg: LoadedConfig,
  env: Record<string, string | undefined> = process.env,
): DeliveryFinding[] {
  const out: DeliveryFinding[] = [];
  const stateDir = path.dirname(cfg.data.state_path);
  for (const n of cfg.data.notifiers) {
    if (n.kind === "webhook" && n.secret_env && !env[n.secret_env]) {
      out.push({
        level: "warn",
        name: "webhook signing",
        detail: `${n.secret_env} is not set here: signed webhook notifications would be withheld`,
      });
    }
    const file = outboxPathOf(n, cfg.root);
    if (!file) continue;
    const name = n.kind;
    if (cfg.data.dispatch.bridge) {
      const platformEnv = Object.fromEntries(
        Object.entries(env).filter(([k]) => k.startsWith(n.kind === "slack_outbox" ? "SLACK_" : "DISCORD_")),
      );
      try {
        const setup = setupDispatch(
          cfg,
          {},
          {
            ...platformEnv,
            AUTOSENTRY_SLACK_API_URL: env.AUTOSENTRY_SLACK_API_URL,
            AUTOSENTRY_DISCORD_API_URL: env.AUTOSENTRY_DISCORD_API_URL,
          },
        );
        out.push(
          setup.backend.name === "stdout"
            ? {
                level: "warn",
                name,
                detail: `dispatch.bridge is on but no ${n.kind === "slack_outbox" ? "SLACK_BOT_TOKEN / SLACK_WEBHOOK_URL" : "DISCORD_BOT_TOKEN / DISCORD_WEBHOOK_URL"} is set here: the monitor would only print ${file}`,
              }
            : {
                level: "ok",
                name,
                detail: `delivered by the monitor (dispatch.bridge, ${setup.backend.name})`,
              },
        );
      } catch (err) {
        const why = err instanceof DispatchSetupError ? err.message : (err as Error).message;
        out.push({ level: "warn", name, detail: `dispatch.bridge is on but cannot deliver: ${why}` });
      }
      continue;
    }
    if (dispatcherAlive(stateDir, file)) {
      out.push({ level: "ok", name, detail: `a dispatcher is delivering ${file}` });
      continue;
    }
    out.push({
      level: "warn",
      name,
      detail: `nothing delivers ${file}: run \`autosentry dispatcher run\` (e.g. in tmux next to the job) or set \`dispatch.bridge: true\``,
    });
  }
  if (out.some((f) => f.name.endsWith("_outbox")) && cfg.data.dispatch.allowed_users.length === 0) {
    out.push({
      level: "warn",
      name: "chat commands",
      detail:
        "dispatch.allowed_users is empty: anyone who can reply in the channel can pause or abort this run",
    });
  }
  return out;
}

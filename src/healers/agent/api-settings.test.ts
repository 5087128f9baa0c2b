import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../../config/load.ts";
import { apiSettings } from "./api-settings.ts";

const healing = (yaml: string) => parseConfigText(yaml, { file: "c.yaml", root: "/p", env: {} }).data.healing;
const errors = (yaml: string) => {
  try {
    parseConfigText(yaml, { file: "c.yaml", root: "/p", env: {} });
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
};

describe("apiSettings", () => {
  test("defaults: the Messages API with ANTHROPIC_API_KEY", () => {
    expect(apiSettings(healing("{}\n"))).toMatchObject({
      provider: "anthropic",
      baseUrl: "https://api.anthropic.com",
      keyEnv: "ANTHROPIC_API_KEY",
      keyRequired: true,
      model: "claude-sonnet-4-5",
      from: "healing.claude.api",
    });
  });

  test("provider openai: OpenAI's defaults, or a self-hosted server that needs no key", () => {
    expect(
      apiSettings(healing("healing:\n  claude:\n    api: { provider: openai, model: gpt-4o-mini }\n")),
    ).toMatchObject({
      provider: "openai",
      baseUrl: "https://api.openai.com",
      keyEnv: "OPENAI_API_KEY",
      keyRequired: true,
      model: "gpt-4o-mini",
    });
    const local = healing(
      "healing:\n  claude:\n    api: { provider: openai, base_url: 'http://gpu07:8000', model: qwen }\n",
    );
    expect(apiSettings(local)).toMatchObject({
      baseUrl: "http://gpu07:8000",
      keyEnv: "OPENAI_API_KEY",
      keyRequired: false,
      label: "Chat Completions API",
    });
  });

  test("healing.langgraph with provider openai is honoured, not routed to Anthropic", () => {
    const h = healing(
      "healing:\n  langgraph: { enabled: true, provider: openai, model: gpt-4o-mini, max_steps: 2, request_timeout_seconds: 9 }\n",
    );
    expect(apiSettings(h)).toMatchObject({
      provider: "openai",
      model: "gpt-4o-mini",
      maxSteps: 2,
      requestTimeoutMs: 9000,
      from: "healing.langgraph",
    });
  });
});

describe("settings that would do nothing are refused", () => {
  test("langgraph provider google, cross_check and vault narratives", () => {
    expect(errors("healing:\n  langgraph:\n    enabled: true\n    provider: google\n")).toBe(
      "c.yaml:4:15: healing.langgraph.provider: google is not supported: use anthropic, or openai for any OpenAI-compatible server (vLLM, Ollama, llama.cpp)",
    );
    expect(errors("healing:\n  langgraph:\n    cross_check: { enabled: true }\n")).toContain(
      "healing.langgraph.cross_check.enabled: not supported: autosentry has no second-model cross-check",
    );
    expect(errors("vault:\n  narratives:\n    enabled: true\n")).toBe(
      "c.yaml:3:14: vault.narratives.enabled: not supported: autosentry writes its notes without LLM narratives; remove the key or set it to false",
    );
    expect(errors("vault:\n  narratives:\n    enabled: false\n")).toBe("no error");
  });
});

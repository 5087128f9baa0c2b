/**
 * @module
 * Which API the `api` mode talks to, and how, from the config: `healing.claude.api` normally, or
 * the Python tool's `healing.langgraph` section when that is what selected the mode
 * (`healing.langgraph.enabled: true` or `healing.claude.mode: langgraph`), whose provider, model,
 * step cap and timeout are then honoured instead of being routed silently to Anthropic.
 *
 * With provider `openai`, a base URL and key variable left at their Anthropic defaults mean
 * OpenAI's (`https://api.openai.com`, `OPENAI_API_KEY`); any other base URL (a vLLM, Ollama or
 * llama.cpp server on the cluster) is taken as written, and a key is optional there.
 */
import type { ConfigData } from "../../config/schema.ts";

export const ANTHROPIC_BASE_URL = "https://api.anthropic.com";
export const OPENAI_BASE_URL = "https://api.openai.com";

export interface ApiSettings {
  provider: "anthropic" | "openai";
  baseUrl: string;
  /** The environment variable holding the key. */
  keyEnv: string;
  /** Whether a missing key makes the mode unusable (it does for Anthropic; local servers need none). */
  keyRequired: boolean;
  model: string;
  maxSteps: number;
  requestTimeoutMs: number;
  /** The config section the settings came from, for messages. */
  from: "healing.claude.api" | "healing.langgraph";
  /** The API's name, for messages. */
  label: string;
}

/** The api mode's effective settings. */
export function apiSettings(healing: ConfigData["healing"]): ApiSettings {
  const a = healing.claude.api;
  const lg = healing.langgraph;
  const viaLanggraph = lg.enabled || healing.claude.mode === "langgraph";
  // The schema refuses google wherever the LangGraph section is in use.
  const provider = viaLanggraph ? (lg.provider === "openai" ? "openai" : "anthropic") : a.provider;
  const openai = provider === "openai";
  const baseUrl = openai && a.base_url === ANTHROPIC_BASE_URL ? OPENAI_BASE_URL : a.base_url;
  return {
    provider,
    baseUrl,
    keyEnv: openai && a.api_key_env === "ANTHROPIC_API_KEY" ? "OPENAI_API_KEY" : a.api_key_env,
    keyRequired: !openai || baseUrl === OPENAI_BASE_URL,
    model: viaLanggraph ? lg.model : a.model,
    maxSteps: viaLanggraph ? lg.max_steps : a.max_steps,
    requestTimeoutMs: (viaLanggraph ? lg.request_timeout_seconds : a.request_timeout_seconds) * 1000,
    from: viaLanggraph ? "healing.langgraph" : "healing.claude.api",
    label: openai ? "Chat Completions API" : "Messages API",
  };
}

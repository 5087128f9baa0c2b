/**
 * @module
 * The files `autosentry init` writes, embedded in the binary as text, and the edits init makes to
 * the config template (with the `yaml` Document API, so that every comment survives).
 */
import { isMap, isPair, isScalar, type Pair, parseDocument, type YAMLMap } from "yaml";
import configTemplate from "../../templates/config/autosentry.yaml" with { type: "text" };
import recoveryPrompt from "../../templates/prompts/recovery.md" with { type: "text" };

/** The config template (`templates/config/autosentry.yaml`). */
export const CONFIG_TEMPLATE: string = configTemplate;
/** The initial recovery prompt (`templates/prompts/recovery.md`). */
export const RECOVERY_PROMPT_TEMPLATE: string = recoveryPrompt;

/** The modeline that points editors at the JSON Schema written next to the config. */
export const SCHEMA_MODELINE = "yaml-language-server: $schema=./autosentry.schema.json";

/** Options for writing documents back; the template is written in this style so it round-trips. */
export const YAML_OUTPUT_OPTIONS = { flowCollectionPadding: false, lineWidth: 0 } as const;

type Doc = ReturnType<typeof parseDocument>;

/** Answers that change the template. */
export interface TemplateAnswers {
  /** `process.command`. */
  command?: string[] | undefined;
  /** `config_snapshots`, replacing the template's list. */
  snapshots?: string[] | undefined;
}

/** The config text init writes for `answers` (the template itself when there are none). */
export function renderConfigTemplate(answers: TemplateAnswers = {}): string {
  if (answers.command === undefined && answers.snapshots === undefined) return CONFIG_TEMPLATE;
  const doc = parseDocument(CONFIG_TEMPLATE);
  if (answers.command !== undefined) replaceValue(doc, ["process", "command"], answers.command, true);
  if (answers.snapshots !== undefined) replaceValue(doc, ["config_snapshots"], answers.snapshots, false);
  return doc.toString(YAML_OUTPUT_OPTIONS);
}

/** Replace the value at `path` keeping the comments around the old value. */
function replaceValue(doc: Doc, path: string[], value: string[], flow: boolean): void {
  const old = doc.getIn(path, true) as { comment?: string | null; commentBefore?: string | null } | undefined;
  const node = doc.createNode(value, { flow: flow || value.length === 0 });
  if (old) {
    node.comment = old.comment ?? null;
    node.commentBefore = old.commentBefore ?? null;
  }
  doc.setIn(path, node);
}

/**
 * Add to `userText` every key of the template that it lacks (recursively inside mappings; lists
 * such as detectors and rules are left alone), keeping the user's values and comments. Each new key
 * comes with the template's comment, after the key that precedes it in the template. Returns the
 * new text and the dotted paths of the inserted keys.
 */
export function upgradeConfigText(
  userText: string,
  templateText = CONFIG_TEMPLATE,
): { text: string; added: string[] } {
  const user = parseDocument(userText);
  if (user.errors.length > 0) throw new Error(user.errors[0]!.message.split("\n")[0]);
  const tpl = parseDocument(templateText);
  const added: string[] = [];
  if (user.contents === null) (user as { contents: unknown }).contents = user.createNode({});
  if (isMap(user.contents) && isMap(tpl.contents)) {
    mergeMissing(user.contents as YAMLMap, tpl.contents as YAMLMap, [], added);
  } else {
    throw new Error("the config is not a mapping of keys");
  }
  let text = added.length > 0 ? user.toString(YAML_OUTPUT_OPTIONS) : userText;
  if (!/^#\s*yaml-language-server:/m.test(leadingComments(userText))) {
    text = `# ${SCHEMA_MODELINE}\n${text}`;
    added.push("(schema modeline)");
  }
  return { text, added };
}

/** The comment lines at the top of a YAML text. */
function leadingComments(text: string): string {
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") lines.push(line);
    else break;
  }
  return lines.join("\n");
}

function keyOf(p: unknown): string | undefined {
  return isPair(p) && isScalar(p.key) ? String(p.key.value) : undefined;
}

/** Maps whose keys are the user's own names (variables, detector names): nothing is added to them. */
const USER_KEYED_MAPS = new Set(["process.env", "healing.claude.subagents"]);

/** Keys that must not be added when the user has the other one: they are exclusive. */
const EXCLUSIVE: Record<string, string> = { "process.command": "stages" };

function mergeMissing(user: YAMLMap, tpl: YAMLMap, path: string[], added: string[]): void {
  let insertAt = 0;
  tpl.items.forEach((tp, tplIndex) => {
    const key = keyOf(tp);
    if (key === undefined) return;
    const dotted = [...path, key].join(".");
    const idx = user.items.findIndex((p) => keyOf(p) === key);
    if (idx >= 0) {
      const up = user.items[idx]!;
      if (isMap(up.value) && isMap(tp.value) && !USER_KEYED_MAPS.has(dotted)) {
        mergeMissing(up.value as YAMLMap, tp.value as YAMLMap, [...path, key], added);
      }
      insertAt = idx + 1;
      return;
    }
    const other = EXCLUSIVE[dotted];
    if (other !== undefined && user.items.some((p) => keyOf(p) === other)) return;
    const clone = tp.clone() as Pair;
    // The comment above a mapping's first key is stored on the mapping (the document's first key
    // carries the file header); move it onto the key so it travels with it.
    let comment = (isScalar(tp.key) ? tp.key.commentBefore : undefined) ?? undefined;
    if (tplIndex === 0 && tpl.commentBefore) comment = tpl.commentBefore;
    if (path.length === 0 && tplIndex === 0 && comment) comment = comment.split("\n\n").pop();
    if (insertAt === 0 && user.commentBefore && user.items[0] && isScalar(user.items[0].key)) {
      user.items[0].key.commentBefore = user.commentBefore;
      user.commentBefore = null;
    }
    if (isScalar(clone.key)) clone.key.commentBefore = comment ?? null;
    user.items.splice(insertAt, 0, clone);
    insertAt++;
    added.push(dotted);
  });
}

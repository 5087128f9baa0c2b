/**
 * @module
 * Output that cannot drive the operator's terminal (issue 16, finding 8). A child's output may hold
 * escape sequences (`\x1b]0;title\x07`, `\x1b[2J`, OSC 52 clipboard writes); autosentry keeps them
 * as written in its files, but what a command prints (`incidents list`, `explain`, `status`) shows
 * them as visible text (`\x1b`) instead of sending them to the terminal. Newlines and tabs pass.
 */

// C0 controls except \t and \n, DEL, and the C1 controls (U+0080–U+009F: U+009B is a one-byte CSI).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function hex(ch: string): string {
  return ch.charCodeAt(0).toString(16).padStart(2, "0");
}

/** Text for a terminal: control characters become `\xNN`. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (ch) => `\\x${hex(ch)}`);
}

/**
 * JSON text for a terminal: JSON.stringify already escapes C0 controls; DEL and C1 controls are
 * escaped as `\u00NN`, which keeps the document valid JSON with the same value.
 */
export function escapeJsonControls(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (ch) => `\\u00${hex(ch)}`);
}

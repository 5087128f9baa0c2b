import { expect, test } from "bun:test";
import { isSecretKey, keyWords } from "./secret-key.ts";

const SECRET = [
  "HF_TOKEN",
  "GITHUB_TOKEN",
  "hf_token",
  "accessToken",
  "refresh-token",
  "AUTHTOKEN",
  "OPENAI_API_KEY",
  "x-api-key",
  "apiKey",
  "AWS_SECRET_ACCESS_KEY",
  "STRIPE_KEY",
  "private_key",
  "SECRET",
  "client_secret",
  "NEXTAUTH_SECRET",
  "SECRET_KEY_BASE",
  "secretValue",
  "PASSWORD",
  "db_password",
  "DBPASSWORD",
  "passwordHash",
  "MYSQL_ROOT_PASSWD",
  "passphrase",
  "credentials",
  "GOOGLE_APPLICATION_CREDENTIALS_JSON",
  "password_reset_token",
  "Authorization",
  "Proxy-Authorization",
  "Cookie",
  "set-cookie",
  "SMTP_PASS",
  "DB_PWD",
  "SENTRY_DSN",
  "X-Amz-Signature",
  "sig",
  "token",
  "token_b64",
  "--api-key",
  "spring.datasource.password",
  "HF_TOKEN2",
  "PASSWORD_2",
];

const NOT_SECRET = [
  "TOKENIZER_PATH",
  "tokenizer",
  "max_tokens",
  "max_new_tokens",
  "num_tokens",
  "eos_token",
  "pad_token",
  "next_token",
  "token_type_ids",
  "GITHUB_TOKEN_FILE",
  "KEY_COLUMN",
  "key",
  "PRIMARY_KEY",
  "sort_key",
  "SSH_PUBLIC_KEY",
  "AWS_ACCESS_KEY_ID",
  "monkey",
  "password_min_length",
  "password_policy",
  "SECRET_NAME",
  "secret_file",
  "secretsManager",
  "PWD",
  "OLDPWD",
  "auth_enabled",
  "oauth_client_id",
  "bypass",
  "passes",
  "HOME",
  "",
  "a".repeat(200),
];

test.each(SECRET)("%p is a secret key", (name) => {
  expect(isSecretKey(name)).toBe(true);
});

test.each(NOT_SECRET)("%p is not a secret key", (name) => {
  expect(isSecretKey(name)).toBe(false);
});

test("keyWords splits separators and camelCase, acronyms included", () => {
  expect(keyWords("AWSSecretAccessKey")).toEqual(["aws", "secret", "access", "key"]);
  expect(keyWords("x-api-key")).toEqual(["x", "api", "key"]);
  expect(keyWords("spring.datasource.password")).toEqual(["spring", "datasource", "password"]);
  expect(keyWords("HF_TOKEN2")).toEqual(["hf", "token2"]);
});

/** Whether a text holds a secret, whole or a stretch of its private part. */

/** The full secret and two stretches of its private part (after the 12-character public prefix). */
export function fragments(secret: string): string[] {
  return [secret, secret.slice(12), secret.slice(-16)];
}

export function findLeaks(text: string, secrets: string[]): string[] {
  return secrets.filter((secret) => fragments(secret).some((f) => text.includes(f)));
}

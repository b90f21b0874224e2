import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';

export interface OutboxWriter {
  readonly dir: string;
  /** Builds the message as SMTP would send it and writes it to `<dir>/<baseName>.eml`; returns the file name. */
  write(message: SendMailOptions, baseName: string): Promise<string>;
}

/** The embedded default for mail: no SMTP account, so each send becomes one `.eml` file. */
export function createOutboxWriter(dir: string, onFirstUse: (dir: string) => void): OutboxWriter {
  // Only builds MIME, holds no connection, so one transport serves every call.
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let ready: Promise<void> | undefined;
  const ensureDir = () =>
    (ready ??= fs.mkdir(dir, { recursive: true, mode: 0o700 }).then(
      () => onFirstUse(dir),
      (err: unknown) => {
        ready = undefined;
        throw err;
      },
    ));

  return {
    dir,
    async write(message, baseName) {
      await ensureDir();
      const info = await composer.sendMail(message);
      const file = `${baseName.replace(/[^A-Za-z0-9._-]/g, '_')}.eml`;
      await fs.writeFile(path.join(dir, file), info.message as Buffer, { mode: 0o600 });
      return file;
    },
  };
}

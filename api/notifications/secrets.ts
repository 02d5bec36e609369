import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

/**
 * Destination secrets (a webhook's signing secret, a Slack webhook URL, an SMTP password) must be read back to
 * sign and send, so they are encrypted rather than hashed: AES-256-GCM under the key of NOTIFICATIONS_SECRET_KEY
 * (or the data directory's notifications.key), stored as `v1.<iv>.<tag>.<ciphertext>` in base64url.
 */
export class SecretBox {
  private readonly key: Buffer

  /** Any string of at least 32 characters, or 32 random bytes; it is stretched to an AES-256 key with SHA-256. */
  constructor(key: string | Buffer) {
    this.key = createHash('sha256').update(key).digest()
  }

  seal(plain: Record<string, unknown>): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()])
    return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.')
  }

  /** The sealed object; throws when the key is not the one it was sealed with. */
  open<T = Record<string, unknown>>(sealed: string): T {
    const [version, iv, tag, body] = sealed.split('.')
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed secret')
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return JSON.parse(Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')) as T
  }
}

/** A webhook signing secret as the receiver stores it: `whsec_` and 32 random bytes. */
export const newSigningSecret = () => `whsec_${randomBytes(32).toString('base64url')}`

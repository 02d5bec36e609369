import { lookup } from 'node:dns/promises'
import net from 'node:net'

/**
 * Whether an address is loopback, private, link-local or otherwise not on the public internet: a destination there
 * would let an admin key probe the network the server sits in (SSRF), so it is refused unless
 * NOTIFICATIONS_ALLOW_PRIVATE=1 (a receiver on the same host or network, as in tests).
 */
export function isPrivateAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped) return isPrivateAddress(mapped[1])
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number)
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    )
  }
  if (net.isIPv6(ip)) {
    const lower = ip.toLowerCase()
    return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith('ff')
  }
  return true
}

/** Why a URL may not be sent to, or null when it may: the host is private (by name, literal or DNS) and that is not allowed. */
export async function privateHostProblem(url: URL, allowPrivate: boolean, resolve = lookupAll): Promise<string | null> {
  if (allowPrivate) return null
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal'))
    return `${host} is a private host name; destinations on private networks are refused unless NOTIFICATIONS_ALLOW_PRIVATE=1`
  const addresses = net.isIP(host) ? [host] : await resolve(host).catch(() => [])
  const bad = addresses.find(isPrivateAddress)
  return bad ? `${host} resolves to the private address ${bad}; destinations on private networks are refused unless NOTIFICATIONS_ALLOW_PRIVATE=1` : null
}

/** A host's addresses, giving up after 3 s: a hung resolver must not hold an API request. */
async function lookupAll(host: string): Promise<string[]> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('DNS timeout')), 3000).unref())
  const found = await Promise.race([lookup(host, { all: true }), timeout])
  return found.map((a) => a.address)
}

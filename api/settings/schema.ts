import { z } from '@hono/zod-openapi'

export const Settings = z
  .object({
    globalHoldoutPct: z.number().min(0).max(0.5).describe('share of all customers kept out of every retention offer'),
    globalHoldoutSeed: z.string().min(1).max(128),
  })
  .openapi('Settings')
export type Settings = z.infer<typeof Settings>
export const SettingsUpdate = Settings.partial().openapi('SettingsUpdate')

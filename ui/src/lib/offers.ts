import type { Offer } from '../../../api/contract/index.ts'
import { currency, integer } from './format.ts'

export type { Offer }
export type OfferType = Offer['type']

/** Each offer type, with what its `value` means (the API stores one number per offer). */
export const OFFER_TYPES: Record<OfferType, { label: string; value: string | null }> = {
  none: { label: 'No incentive', value: null },
  percent_off: { label: 'Percent off', value: 'Percent' },
  amount_off: { label: 'Amount off', value: 'Amount' },
  free_shipping: { label: 'Free shipping', value: null },
  loyalty_points: { label: 'Loyalty points', value: 'Points' },
  trial_extension: { label: 'Trial extension', value: 'Days' },
  custom: { label: 'Custom', value: 'Value' },
}

/** "15% off", "$10 off", "500 points", "Free shipping", "No incentive". */
export function describeOffer(offer: Offer | null | undefined): string {
  if (!offer) return 'No incentive'
  switch (offer.type) {
    case 'none':
      return 'No incentive'
    case 'percent_off':
      return `${offer.value}% off`
    case 'amount_off':
      return `${currency(offer.value, offer.currency ?? 'USD', Number.isInteger(offer.value) ? 0 : 2)} off`
    case 'free_shipping':
      return 'Free shipping'
    case 'loyalty_points':
      return `${integer(offer.value)} loyalty points`
    case 'trial_extension':
      return `${integer(offer.value)}-day trial extension`
    case 'custom':
      return offer.description || `Custom (${offer.value})`
  }
}

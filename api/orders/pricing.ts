/**
 * Tax and shipping are pluggable: a deployment passes its own calculators to the checkout service.
 * The defaults fit a federal mint (no sales tax) with flat-rate shipping per shipment.
 */
export interface PricedLine {
  sku: string;
  quantity: number;
  unitPriceCents: number;
  shipmentIndex: number;
}
export interface PricedShipment {
  state: string;
  postalCode: string;
  country: string;
}

export interface TaxCalculator {
  /** Tax in cents for the whole order. */
  taxCents(lines: PricedLine[], shipments: PricedShipment[]): number;
}
export interface ShippingCalculator {
  shippingCents(lines: PricedLine[], shipments: PricedShipment[]): number;
}

export const noSalesTax: TaxCalculator = { taxCents: () => 0 };

/** Destination-based tax: each shipment's lines taxed at its state's rate (basis points), rounded half up per shipment. */
export function stateRateTax(ratesBasisPoints: Record<string, number>): TaxCalculator {
  return {
    taxCents(lines, shipments) {
      return shipments.reduce((total, shipment, index) => {
        const rate = ratesBasisPoints[shipment.state.toUpperCase()] ?? 0;
        const subtotal = lines.filter((l) => l.shipmentIndex === index).reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
        return total + Math.round((subtotal * rate) / 10_000);
      }, 0);
    },
  };
}

/** Flat fee per shipment that carries at least one line; free above a threshold when given. */
export function flatRateShipping(perShipmentCents = 495, freeOverCents?: number): ShippingCalculator {
  return {
    shippingCents(lines, shipments) {
      const subtotal = lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
      if (freeOverCents !== undefined && subtotal >= freeOverCents) return 0;
      const used = shipments.filter((_, index) => lines.some((l) => l.shipmentIndex === index)).length;
      return used * perShipmentCents;
    },
  };
}

export function subtotalCents(lines: PricedLine[]): number {
  return lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
}

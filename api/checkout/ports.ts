/**
 * What checkout needs from other domains, stated narrowly so the rules in checkout/service.ts can
 * be read (and tested) without the whole service graph.
 */
export interface CheckoutProduct {
  sku: string;
  name: string;
  priceCents: number;
  householdLimit: number | null;
  active: boolean;
  /** Public sale opens then; enrollment orders are allocated before it. */
  releaseAt: Date;
  program: string | null;
}

export interface CheckoutCatalog {
  getForCheckout(skus: string[]): Promise<Map<string, CheckoutProduct>>;
}

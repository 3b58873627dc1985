import { AppError } from '../../platform/errors.ts';
import type { Principal } from '../http/principal.ts';
import type { CreateProductInput } from './schema.ts';
import type { CatalogService } from './service.ts';

export interface SeedResult {
  created: string[];
  existing: string[];
}

/**
 * Demo catalog for `mintdesk seed`: a small mint's storefront with proof sets, bullion-style
 * coins, commemoratives, a high-demand limited release (one per household), an upcoming release
 * and two subscription programs. Release dates are relative to `now` so the upcoming release is
 * upcoming whenever a fresh environment is seeded. No product has image URLs: the storefront draws
 * each coin from its metal, year and mint mark, so the demo works offline.
 */

export const SEED_PROGRAMS = {
  /** Annual clad and silver proof sets, shipped to subscribers on release. */
  proofSetAnnual: 'PROOF-SET-ANNUAL',
  /** The yearly one-ounce silver proof eagle. */
  silverEagleProofAnnual: 'SILVER-EAGLE-PROOF-ANNUAL',
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

export function catalogSeedProducts(now: Date): CreateProductInput[] {
  const year = now.getUTCFullYear();
  const daysFromNow = (days: number) => new Date(now.getTime() + days * DAY_MS).toISOString();
  return [
    {
      sku: `PS-${year}-CLAD`,
      name: `${year} Proof Set`,
      description: `All ten of this year's circulating designs struck as proofs at the San Francisco Mint: five quarters, plus the cent, nickel, dime, half dollar and dollar, in a lens with certificate of authenticity.`,
      priceCents: 3_525,
      releaseAt: daysFromNow(-120),
      program: SEED_PROGRAMS.proofSetAnnual,
      totalStock: 250_000,
      householdLimit: null,
      category: 'proof_sets',
      metal: 'copper-nickel clad',
      year,
      mintMark: 'S',
    },
    {
      sku: `PS-${year}-SILVER`,
      name: `${year} Silver Proof Set`,
      description: `The ten coins of the ${year} Proof Set, with the dime, quarters and half dollar struck in .999 fine silver.`,
      priceCents: 13_200,
      releaseAt: daysFromNow(-110),
      program: SEED_PROGRAMS.proofSetAnnual,
      totalStock: 120_000,
      householdLimit: 10,
      category: 'proof_sets',
      metal: 'silver',
      year,
      mintMark: 'S',
    },
    {
      sku: `PS-${year + 1}-CLAD`,
      name: `${year + 1} Proof Set`,
      description: `Next year's proof set. Subscribers to the annual proof set program receive it on release; orders open on the release date.`,
      priceCents: 3_650,
      releaseAt: daysFromNow(45),
      program: SEED_PROGRAMS.proofSetAnnual,
      totalStock: 250_000,
      householdLimit: null,
      category: 'proof_sets',
      metal: 'copper-nickel clad',
      year: year + 1,
      mintMark: 'S',
    },
    {
      sku: `MS-${year}-UNC`,
      name: `${year} Uncirculated Coin Set`,
      description: 'Twenty uncirculated coins, one of each design from the Philadelphia and Denver Mints, in two blister packs.',
      priceCents: 2_650,
      releaseAt: daysFromNow(-90),
      program: null,
      totalStock: 180_000,
      householdLimit: null,
      category: 'uncirculated',
      metal: 'copper-nickel clad',
      year,
      mintMark: null,
    },
    {
      sku: `SE-${year}-W-PROOF`,
      name: `Liberty Eagle ${year} One Ounce Silver Proof Coin`,
      description: 'One troy ounce of .999 fine silver, struck at West Point with a frosted walking-Liberty obverse and eagle reverse. Presented in a velvet case.',
      priceCents: 9_500,
      releaseAt: daysFromNow(-60),
      program: SEED_PROGRAMS.silverEagleProofAnnual,
      totalStock: 400_000,
      householdLimit: 5,
      category: 'coins',
      metal: 'silver',
      year,
      mintMark: 'W',
    },
    {
      sku: `SE-${year}-W-BURN`,
      name: `Liberty Eagle ${year} One Ounce Silver Uncirculated Coin`,
      description: 'The silver eagle with a burnished (satin) finish and the West Point mint mark, in a protective capsule.',
      priceCents: 7_900,
      releaseAt: daysFromNow(-60),
      program: null,
      totalStock: 150_000,
      householdLimit: 10,
      category: 'uncirculated',
      metal: 'silver',
      year,
      mintMark: 'W',
    },
    {
      sku: `GE-${year}-TENTH-OZ`,
      name: `Liberty Eagle ${year} Tenth Ounce Gold Bullion Coin`,
      description: 'One tenth troy ounce of 22-karat gold, priced daily from the spot price. Sold in tubes of one.',
      priceCents: 44_500,
      releaseAt: daysFromNow(-300),
      program: null,
      totalStock: 60_000,
      householdLimit: 20,
      category: 'bullion',
      metal: 'gold',
      year,
      mintMark: null,
    },
    {
      sku: `SB-${year}-5OZ-PARK`,
      name: `${year} National Parks Five Ounce Silver Bullion Coin`,
      description: 'Three-inch, five-ounce .999 fine silver coin honoring a national park, with an edge lettered with its weight and fineness.',
      priceCents: 21_900,
      releaseAt: daysFromNow(-200),
      program: null,
      totalStock: 30_000,
      householdLimit: 5,
      category: 'bullion',
      metal: 'silver',
      year,
      mintMark: null,
    },
    {
      sku: `CM-${year}-LIB-DOLLAR-P`,
      name: `${year} Liberty Bell Commemorative Silver Dollar, Proof`,
      description: 'Authorized by Congress for the anniversary of the Liberty Bell. A surcharge of $10 per coin supports historic preservation.',
      priceCents: 8_700,
      releaseAt: daysFromNow(-30),
      program: null,
      totalStock: 350_000,
      householdLimit: null,
      category: 'commemorative',
      metal: 'silver',
      year,
      mintMark: 'P',
    },
    {
      sku: `CM-${year}-LIB-HALF-D`,
      name: `${year} Liberty Bell Commemorative Clad Half Dollar, Uncirculated`,
      description: 'The clad companion to the Liberty Bell silver dollar, struck at Denver.',
      priceCents: 2_850,
      releaseAt: daysFromNow(-30),
      program: null,
      totalStock: 300_000,
      householdLimit: null,
      category: 'commemorative',
      metal: 'copper-nickel clad',
      year,
      mintMark: 'D',
    },
    {
      sku: `LTD-${year}-GOLD-REVERSE-PROOF`,
      name: `${year} Liberty Eagle One Ounce Gold Reverse Proof, Limited Edition`,
      description: 'Mirror-finish devices on a frosted field, struck once this year in a mintage of 2,500. One per household.',
      priceCents: 395_000,
      releaseAt: daysFromNow(-3),
      program: null,
      totalStock: 2_500,
      householdLimit: 1,
      category: 'coins',
      metal: 'gold',
      year,
      mintMark: 'W',
    },
    {
      sku: 'MD-LIBERTY-BELL-BRONZE-3IN',
      name: 'Liberty Bell Bronze Medal, Three Inch',
      description: 'A duplicate of the Liberty Bell congressional medal in antique-finish bronze.',
      priceCents: 4_900,
      releaseAt: daysFromNow(-400),
      program: null,
      totalStock: 8_000,
      householdLimit: null,
      category: 'medals',
      metal: 'bronze',
      year: null,
      mintMark: null,
    },
    {
      sku: 'AC-PROOF-SET-CASE-WALNUT',
      name: 'Walnut Display Case for Proof Sets',
      description: 'Hand-finished walnut case with a glass lid that holds one proof set lens.',
      priceCents: 3_995,
      releaseAt: daysFromNow(-500),
      program: null,
      totalStock: 5_000,
      householdLimit: null,
      category: 'accessories',
      metal: null,
      year: null,
      mintMark: null,
    },
  ];
}

const SEED_ACTOR: Principal = { type: 'system', component: 'seed' };

/**
 * Creates every seed product that is not in the catalog yet. Idempotent by sku: existing
 * products are left exactly as they are (prices, stock and edits made since are kept).
 */
export async function seedCatalog(catalog: Pick<CatalogService, 'getAdmin' | 'create'>, options: { now?: Date } = {}): Promise<SeedResult> {
  const result: SeedResult = { created: [], existing: [] };
  for (const product of catalogSeedProducts(options.now ?? new Date())) {
    if (await exists(catalog, product.sku)) {
      result.existing.push(product.sku);
      continue;
    }
    try {
      await catalog.create(product, SEED_ACTOR);
      result.created.push(product.sku);
    } catch (error) {
      // Another seeder got there first.
      if (error instanceof AppError && error.code === 'catalog.sku_taken') result.existing.push(product.sku);
      else throw error;
    }
  }
  return result;
}

async function exists(catalog: Pick<CatalogService, 'getAdmin'>, sku: string): Promise<boolean> {
  try {
    await catalog.getAdmin(sku);
    return true;
  } catch (error) {
    if (error instanceof AppError && error.code === 'catalog.product_not_found') return false;
    throw error;
  }
}

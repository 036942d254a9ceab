import type pg from "pg";

const DEMO_PRODUCTS = [
  { sku: "MUG-001", name: "Enamel mug", description: "Camp mug, 350 ml", priceCents: 1200, stock: 250 },
  { sku: "TEE-002", name: "Logo T-shirt", description: "Organic cotton", priceCents: 2500, stock: 120 },
  { sku: "CAP-003", name: "Cap", description: "One size", priceCents: 1800, stock: 80 },
  { sku: "BAG-004", name: "Tote bag", description: "Canvas, 10 l", priceCents: 1500, stock: 300 },
  { sku: "STK-005", name: "Sticker pack", description: "Six vinyl stickers", priceCents: 500, stock: 1000 },
];

/** Demo data; idempotent, so running it twice (or after real data exists) changes nothing. */
export async function seedDemoData(db: Pick<pg.Pool, "query">): Promise<number> {
  let inserted = 0;
  for (const p of DEMO_PRODUCTS) {
    const { rowCount } = await db.query(
      `INSERT INTO products (sku, name, description, price_cents, stock) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (sku) DO NOTHING`,
      [p.sku, p.name, p.description, p.priceCents, p.stock],
    );
    inserted += rowCount ?? 0;
  }
  return inserted;
}

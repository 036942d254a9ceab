/** Orders in Postgres; placing one takes the stock in the same transaction. */
import type pg from "pg";
import { KEYSET_PAGE_SQL, type Page, toPage } from "../db/pagination.js";

export interface Order {
  id: number;
  productId: number;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  createdAt: string;
}

interface OrderRow {
  id: number;
  product_id: number;
  quantity: number;
  unit_price_cents: number;
  total_cents: string;
  created_at: Date;
}

const COLUMNS = "id, product_id, quantity, unit_price_cents, total_cents, created_at";

const toOrder = (row: OrderRow): Order => ({
  id: row.id,
  productId: row.product_id,
  quantity: row.quantity,
  unitPriceCents: row.unit_price_cents,
  totalCents: Number(row.total_cents),
  createdAt: row.created_at.toISOString(),
});

export type PlaceOrderResult =
  | { outcome: "placed"; order: Order }
  | { outcome: "unknown_product" }
  | { outcome: "insufficient_stock"; available: number };

export class OrderStore {
  constructor(private readonly db: pg.Pool) {}

  async place(productId: number, quantity: number): Promise<PlaceOrderResult> {
    const client = await this.db.connect();
    try {
      await client.query("BEGIN");
      // One conditional UPDATE both checks and takes the stock; the row lock it holds serializes
      // concurrent orders for the same product, so two buyers can never take the same last unit.
      const taken = await client.query<{ price_cents: number }>(
        "UPDATE products SET stock = stock - $2, updated_at = now() WHERE id = $1 AND stock >= $2 RETURNING price_cents",
        [productId, quantity],
      );
      const price = taken.rows[0]?.price_cents;
      if (price === undefined) {
        await client.query("ROLLBACK");
        // Same connection: a second pool checkout while holding this one deadlocks a full pool.
        const { rows } = await client.query<{ stock: number }>("SELECT stock FROM products WHERE id = $1", [
          productId,
        ]);
        return rows[0]
          ? { outcome: "insufficient_stock", available: rows[0].stock }
          : { outcome: "unknown_product" };
      }
      const { rows } = await client.query<OrderRow>(
        `INSERT INTO orders (product_id, quantity, unit_price_cents, total_cents) VALUES ($1, $2, $3, $4)
         RETURNING ${COLUMNS}`,
        [productId, quantity, price, quantity * price],
      );
      await client.query("COMMIT");
      return { outcome: "placed", order: toOrder(rows[0] as OrderRow) };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async get(id: number): Promise<Order | null> {
    const { rows } = await this.db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
    return rows[0] ? toOrder(rows[0]) : null;
  }

  async list(limit: number, after: number): Promise<Page<Order>> {
    const { rows } = await this.db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders ${KEYSET_PAGE_SQL}`, [
      after,
      limit + 1,
    ]);
    return toPage(rows, limit, toOrder);
  }
}

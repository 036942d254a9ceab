/** Orders in Postgres; placing one takes the stock in the same statement. */
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

/**
 * Placing an order is one statement, so one round trip and its own transaction. The conditional UPDATE both
 * checks and takes the stock; the row lock it holds serializes concurrent orders for the same product (a
 * waiting one re-checks `stock >= $2` against the committed row), so two buyers never take the same last
 * unit. No row taken, nothing inserted: the statement answers no row.
 */
const PLACE_ORDER_SQL = `
  WITH taken AS (
    UPDATE products SET stock = stock - $2::integer, updated_at = now()
    WHERE id = $1::integer AND stock >= $2::integer
    RETURNING id, price_cents
  )
  INSERT INTO orders (product_id, quantity, unit_price_cents, total_cents)
  SELECT id, $2::integer, price_cents, price_cents::bigint * $2::integer FROM taken
  RETURNING ${COLUMNS}`;

export type PlaceOrderResult =
  | { outcome: "placed"; order: Order }
  | { outcome: "unknown_product" }
  | { outcome: "insufficient_stock"; available: number };

export class OrderStore {
  constructor(private readonly db: pg.Pool) {}

  async place(productId: number, quantity: number): Promise<PlaceOrderResult> {
    const { rows } = await this.db.query<OrderRow>(PLACE_ORDER_SQL, [productId, quantity]);
    if (rows[0]) return { outcome: "placed", order: toOrder(rows[0]) };
    // Only on refusal: was the product missing, or its stock short? (The stock may have moved since; the
    // answer is what a buyer would see now.)
    const product = await this.db.query<{ stock: number }>("SELECT stock FROM products WHERE id = $1", [
      productId,
    ]);
    return product.rows[0]
      ? { outcome: "insufficient_stock", available: product.rows[0].stock }
      : { outcome: "unknown_product" };
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

/**
 * Many rows into one table with few statements: a row costs SQLite about a
 * microsecond, a call through better-sqlite3 about as much again, so a
 * group commit of thousands of rows inserts them in multi-row `VALUES`
 * statements (256, 64, 16, 4, 1 rows each), prepared once per size.
 */
import type Database from 'better-sqlite3';

const kSizes = [256, 64, 16, 4, 1] as const;

export class BatchInsert {
  readonly #db: Database.Database;
  readonly #head: string;
  readonly #tail: string;
  readonly #tuple: string;
  readonly #columns: number;
  readonly #statements = new Map<number, Database.Statement>();
  #values: unknown[] = [];

  /** `INSERT INTO <table> (<columns>) VALUES` … `<tail>` (say, `ON CONFLICT DO NOTHING`). */
  constructor(db: Database.Database, table: string, columns: readonly string[], tail = '') {
    this.#db = db;
    this.#columns = columns.length;
    this.#head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
    this.#tuple = `(${columns.map(() => '?').join(', ')})`;
    this.#tail = tail === '' ? '' : ` ${tail}`;
  }

  /** One row's values, in the columns' order; written at the next flush. */
  push(...row: unknown[]): void {
    for (const value of row) this.#values.push(value);
  }

  /** Writes the pushed rows (inside the caller's transaction). */
  flush(): void {
    const values = this.#values;
    if (values.length === 0) return;
    this.#values = [];
    let row = 0;
    const rows = values.length / this.#columns;
    for (const size of kSizes) {
      while (rows - row >= size) {
        this.#statement(size).run(values.slice(row * this.#columns, (row + size) * this.#columns));
        row += size;
      }
    }
  }

  /** Forgets the pushed rows (their transaction rolled back). */
  clear(): void {
    this.#values = [];
  }

  #statement(size: number): Database.Statement {
    let statement = this.#statements.get(size);
    if (statement === undefined) {
      statement = this.#db.prepare(this.#head + Array.from({ length: size }, () => this.#tuple).join(', ') + this.#tail);
      this.#statements.set(size, statement);
    }
    return statement;
  }
}

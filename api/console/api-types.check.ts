import type { z } from 'zod';
import type { deadLetterSchema, eventSchema, historyItemSchema, movementSchema, productWarehousesSchema, statsSchema, statusChangeSchema, stockSchema } from '../schemas/resources.js';
import type * as Console from './src/api-types.js';

/**
 * Compile-time proof that the console's view of the API (src/api-types.ts) accepts what the API's
 * own schemas produce: `make lint` (tsc) fails here when a route's body changes in a way the
 * console would misread. No runtime code.
 */

type Out<T extends z.ZodType> = z.output<T>;
/** Compiles only when `Server` is assignable to `Client`. */
type Accepts<Client, Server extends Client> = [Client, Server];

export type ConsoleReadsTheApi = [
  Accepts<Console.Stats, Out<typeof statsSchema>>,
  Accepts<Console.StockRow, Out<typeof stockSchema>>,
  Accepts<Console.ProductWarehouses, Out<typeof productWarehousesSchema>>,
  Accepts<Console.Movement, Out<typeof movementSchema>>,
  Accepts<Console.LedgerEvent, Out<typeof eventSchema>>,
  Accepts<Console.HistoryItem, Out<typeof historyItemSchema>>,
  Accepts<Console.DeadLetter, Out<typeof deadLetterSchema>>,
  Accepts<Console.StatusChange, Out<typeof statusChangeSchema>>,
];

-- Each side of a movement keeps its own product. The two sides of one movement normally name the
-- same product; when they do not, each side's stock effect followed its own (warehouse, product)
-- all along, and the movement now shows both and is flagged (../shared/design.md section 3).
-- product_id stays: the departure's product, else the arrival's, so existing readers keep working.
ALTER TABLE movements ADD COLUMN departure_product_id uuid, ADD COLUMN arrival_product_id uuid;

UPDATE movements
   SET departure_product_id = CASE WHEN departure_message_id IS NOT NULL THEN product_id END,
       arrival_product_id   = CASE WHEN arrival_message_id IS NOT NULL THEN product_id END;

ALTER TABLE movements
    ADD CONSTRAINT movements_departure_product CHECK ((departure_message_id IS NULL) = (departure_product_id IS NULL)),
    ADD CONSTRAINT movements_arrival_product CHECK ((arrival_message_id IS NULL) = (arrival_product_id IS NULL)),
    ADD CONSTRAINT movements_product_is_departure_else_arrival CHECK (product_id = coalesce(departure_product_id, arrival_product_id)),
    -- Both sides known and naming different products: the quantity difference means nothing.
    ADD COLUMN product_mismatch boolean NOT NULL
        GENERATED ALWAYS AS (coalesce(departure_product_id <> arrival_product_id, false)) STORED;

-- Dead letters keep the message key as the bytes Kafka carried, and the message headers.
--
-- A key is bytes in Kafka. Stored as text, a key holding a 0x00 byte (or any bytes that are not
-- UTF-8) made the dead-letter insert fail with SQLSTATE 22021, and the partition stalled behind it.
-- Existing text keys convert to their UTF-8 bytes.
ALTER TABLE dead_letters ALTER COLUMN message_key TYPE bytea USING convert_to(message_key, 'UTF8');

-- The message's headers, in order: [{"key": <header key>, "value": <base64 of the value bytes>}],
-- NULL when it had none. Header values are bytes (base64 keeps them exact inside jsonb, which
-- cannot hold a 0x00 character); header keys are strings in the Kafka protocol, stored as text with
-- any U+0000 replaced by U+FFFD for the same reason.
ALTER TABLE dead_letters ADD COLUMN headers jsonb;

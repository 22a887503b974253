-- Mail goes out under the brand it belongs to: its sender name and, when the brand sets one, its address.
ALTER TABLE platform.outbox ADD COLUMN from_name text, ADD COLUMN from_address text;

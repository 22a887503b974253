-- The provider's ids of the parts of a long outbound message that a try of its delivery sent before failing (Telegram
-- splits a text over 4,096 characters): the next try sends only the rest, so the shopper never reads a part twice.
ALTER TABLE messages ADD COLUMN sent_parts text[] CHECK (cardinality(sent_parts) <= 100);

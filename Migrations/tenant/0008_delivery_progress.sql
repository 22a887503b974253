-- The provider's ids of the parts of a long outbound message that a try of its delivery sent before failing (Telegram
-- splits a text over 4,096 characters): the next try sends only the rest, so the shopper never reads a part twice.
ALTER TABLE messages ADD COLUMN sent_parts text[] CHECK (cardinality(sent_parts) <= 100);

-- Delivery reports that overtook the send they report on: WhatsApp can post a wamid's status before our own write of
-- that wamid has committed. Recording the send applies them; the daily retention job deletes those over an hour old
-- (reports on messages that are not ours, or on the later parts of a long text).
CREATE TABLE early_delivery_reports (
    channel text NOT NULL,
    channel_message_id text NOT NULL CHECK (length(channel_message_id) <= 200),
    state text NOT NULL CHECK (state IN ('sent', 'delivered', 'read', 'failed')),
    error text CHECK (length(error) <= 500),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, channel_message_id, state)
);

-- Rating pads become devices with a token each, bound to one window (as
-- migrations/sqlite/0010_pad_devices.sql): before, the pad's API needed no token and anyone
-- could take a customer's one rating. `window_number` is the window's number in the device's
-- branch (as `ratings.window_number`); set for pads only.

ALTER TABLE devices DROP CONSTRAINT devices_role_check;
ALTER TABLE devices ADD CONSTRAINT devices_role_check CHECK (role IN ('kiosk', 'display', 'pad'));
ALTER TABLE devices ADD COLUMN window_number BIGINT;
ALTER TABLE devices ADD CONSTRAINT devices_pad_window
    CHECK ((role = 'pad') = (window_number IS NOT NULL));

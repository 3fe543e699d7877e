-- (As migrations/sqlite/0029_booking_devices.sql.)
-- The hall's own booking portal (issue #12) is a device with a token of its own, role
-- `booking`.
ALTER TABLE devices DROP CONSTRAINT devices_role_check;
ALTER TABLE devices ADD CONSTRAINT devices_role_check CHECK (role IN ('kiosk', 'display', 'pad', 'booking'));

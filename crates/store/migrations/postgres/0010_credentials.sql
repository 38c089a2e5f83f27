-- The TOTP time step (Unix time / 30 s) of the last one-time code accepted for each user; a code
-- of that step or an earlier one is refused, so each code works once. NULL until one is accepted.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

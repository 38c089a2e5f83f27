-- The language each user chose for the web interface (en, uk, ru, ar); NULL until they choose, when
-- the browser's Accept-Language decides.
ALTER TABLE users ADD COLUMN language TEXT;

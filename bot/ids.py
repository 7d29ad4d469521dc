"""The ids people see for activities and invitations (`#K7QX2MR`): random characters
from an alphabet without look-alikes, so a typed id is easy to read out and no id tells
how many rows a club has. The store keeps them; the grammar and the front ends read them,
so the format lives here, in the core, where all three may import it.

No look-alikes 0/O and 1/I/L, upper case (typed ids are upper-cased before the lookup);
31^7 ~ 2.7e10 ids: a clash is vanishingly rare, and the unique index refuses one."""

PUBLIC_ID_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PUBLIC_ID_LENGTH = 7

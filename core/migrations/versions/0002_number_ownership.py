"""one number, one owner: claimed numbers are unique in the deployment; released rows stay

* ``uq_numbers_claimed``: at most one row per phone number that is being bought
  (``purchasing``) or active and hosted or a verified caller ID, across every workspace.
* The per-workspace uniqueness of a phone number ignores ``released`` rows, so a workspace
  may buy or add again a number it released (the released row stays for the ledger).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0005'

NOT_RELEASED = "state <> 'released'"
CLAIMED = "state = 'purchasing' OR (state = 'active' AND (hosted OR verified_cli))"


def upgrade() -> None:
    with op.batch_alter_table('numbers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_numbers_workspace_id', type_='unique')
    op.create_index(
        'uq_numbers_workspace_phone',
        'numbers',
        ['workspace_id', 'phone_e164'],
        unique=True,
        sqlite_where=sa.text(NOT_RELEASED),
        postgresql_where=sa.text(NOT_RELEASED),
    )
    op.create_index(
        'uq_numbers_claimed',
        'numbers',
        ['phone_e164'],
        unique=True,
        sqlite_where=sa.text(CLAIMED),
        postgresql_where=sa.text(CLAIMED),
    )


def downgrade() -> None:
    op.drop_index('uq_numbers_claimed', table_name='numbers')
    op.drop_index('uq_numbers_workspace_phone', table_name='numbers')
    # Released rows would break the old constraint: they go (their ledger rows stay).
    op.execute("DELETE FROM numbers WHERE state = 'released'")
    with op.batch_alter_table('numbers', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_numbers_workspace_id', ['workspace_id', 'phone_e164'])

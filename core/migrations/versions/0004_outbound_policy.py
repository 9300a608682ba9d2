"""outbound policy: the workspace's policy and each number's country allow-list"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0002'


def upgrade() -> None:
    with op.batch_alter_table('workspaces') as batch:
        batch.add_column(sa.Column('outbound_policy', sa.Text(), nullable=True))
    with op.batch_alter_table('numbers') as batch:
        batch.add_column(
            sa.Column('allowed_countries', sa.JSON(), nullable=False, server_default='[]')
        )


def downgrade() -> None:
    with op.batch_alter_table('numbers') as batch:
        batch.drop_column('allowed_countries')
    with op.batch_alter_table('workspaces') as batch:
        batch.drop_column('outbound_policy')

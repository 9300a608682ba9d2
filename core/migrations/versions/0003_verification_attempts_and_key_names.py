"""verification attempts and API key names

``numbers.verification_attempts`` counts the wrong codes of the verification under way (a
start resets it); ``api_keys.name`` labels a key so that a workspace can tell its keys apart.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0001'


def upgrade() -> None:
    with op.batch_alter_table('numbers') as batch:
        batch.add_column(
            sa.Column(
                'verification_attempts', sa.Integer(), nullable=False, server_default='0'
            )
        )
    with op.batch_alter_table('api_keys') as batch:
        batch.add_column(sa.Column('name', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_keys') as batch:
        batch.drop_column('name')
    with op.batch_alter_table('numbers') as batch:
        batch.drop_column('verification_attempts')

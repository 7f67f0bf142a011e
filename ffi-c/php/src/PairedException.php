<?php

declare(strict_types=1);

namespace Ksef;

/**
 * Paired mode: the Fakturownia channel, webhooks, NBP rates, conflicts and snapshots (60x-61x, 64x).
 */
class PairedException extends KsefException
{
}

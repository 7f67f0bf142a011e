<?php

declare(strict_types=1);

namespace Ksef;

/**
 * Offline mode: invalid offline input, unknown invoices, wrong state, bad snapshots (7xx).
 */
class OfflineException extends KsefException
{
}

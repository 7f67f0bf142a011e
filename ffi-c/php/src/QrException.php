<?php

declare(strict_types=1);

namespace Ksef;

/**
 * A QR code could not be made: text too long, signing, a malformed link part, rendering (401-404).
 */
class QrException extends KsefException
{
}

<?php

declare(strict_types=1);

namespace Ksef;

/**
 * Keys, certificates, encryption and XML signatures (42x-45x).
 */
class CryptoException extends KsefException
{
}

<?php

declare(strict_types=1);

namespace Ksef;

/**
 * Talking to KSeF failed: the API refused the request, rate limits, authorization, the protocol's state machines, batches (5xx).
 */
class ApiException extends KsefException
{
}

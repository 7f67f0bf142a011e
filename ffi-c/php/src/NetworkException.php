<?php

declare(strict_types=1);

namespace Ksef;

/**
 * A service could not be reached or did not answer in time: KSeF (503 transport, 504 timeout), Fakturownia (604), NBP (617).
 */
class NetworkException extends ApiException
{
}

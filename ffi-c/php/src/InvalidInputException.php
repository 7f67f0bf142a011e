<?php

declare(strict_types=1);

namespace Ksef;

/**
 * Bad input: XML or JSON that cannot be read (1xx), output the schema cannot express (2xx), a malformed KSeF number (400), an invalid order or rule set (62x), a NULL or invalid argument (900-901).
 */
class InvalidInputException extends KsefException
{
}

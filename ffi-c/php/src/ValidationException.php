<?php

declare(strict_types=1);

namespace Ksef;

/**
 * Invoice rules beyond the XSD failed (300, the report is in getDetail()), inconsistent builder input (301), an arithmetic overflow (302).
 */
class ValidationException extends InvalidInputException
{
}

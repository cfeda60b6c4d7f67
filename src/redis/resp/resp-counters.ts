import { Injectable } from '@nestjs/common';

/** What the RESP listener counts, for INFO and CLIENT (the engine reads them, the listener writes them). */
@Injectable()
export class RespCounters {
  port: number | undefined;
  openConnections = 0;
  totalConnections = 0;
  rejectedConnections = 0;
  commands = 0;
  inputBytes = 0;
  outputBytes = 0;
}

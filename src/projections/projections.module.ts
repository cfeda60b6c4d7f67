import { Global, Module } from '@nestjs/common';
import { Journal } from '../journal/journal';
import { Storage } from '../journal/storage';
import { CacheNamesProjection } from './cache-names.projection';
import { KeyListingProjection } from './key-listing.projection';
import { ProjectionRunner } from './projection-runner';

export const KEY_LISTING_RUNNER = Symbol('KEY_LISTING_RUNNER');
export const CACHE_NAMES_RUNNER = Symbol('CACHE_NAMES_RUNNER');

@Global()
@Module({
  providers: [
    { provide: KeyListingProjection, useFactory: (storage: Storage) => new KeyListingProjection(storage), inject: [Storage] },
    { provide: CacheNamesProjection, useFactory: (storage: Storage) => new CacheNamesProjection(storage), inject: [Storage] },
    {
      provide: KEY_LISTING_RUNNER,
      useFactory: (storage: Storage, journal: Journal, projection: KeyListingProjection) => new ProjectionRunner(storage, journal, projection),
      inject: [Storage, Journal, KeyListingProjection],
    },
    {
      provide: CACHE_NAMES_RUNNER,
      useFactory: (storage: Storage, journal: Journal, projection: CacheNamesProjection) => new ProjectionRunner(storage, journal, projection),
      inject: [Storage, Journal, CacheNamesProjection],
    },
  ],
  exports: [KeyListingProjection, CacheNamesProjection, KEY_LISTING_RUNNER, CACHE_NAMES_RUNNER],
})
export class ProjectionsModule {}

/* Deutsche Texte der Seiten; die Schlüssel sind die von en.js. */
export default {
	'skip': 'Zum Inhalt springen',
	'nav.label': 'Hauptmenü',
	'nav.trainings': 'Meine Schulungen',
	'nav.catalog': 'Katalog',
	'nav.profile': 'Profil',
	'nav.admin': 'Verwaltung',
	'nav.signout': 'Abmelden',

	'error.title': 'Etwas ist schiefgegangen',
	'error.generic': 'Die Anfrage ist fehlgeschlagen. Bitte noch ' +
		'einmal versuchen.',
	'error.network': 'Die Akademie ist nicht erreichbar. Bitte die ' +
		'Verbindung prüfen und noch einmal versuchen.',
	'error.forbidden': 'Das dürfen Sie nicht.',
	'error.unavailable': 'Dieser Teil der Akademie ist noch nicht ' +
		'verfügbar.',

	'field.email': 'E-Mail',
	'field.password': 'Passwort',
	'field.name': 'Name',
	'field.role': 'Rolle',
	'field.language': 'Sprache',
	'field.newPassword': 'Neues Passwort',
	'field.repeatPassword': 'Neues Passwort wiederholen',
	'field.currentPassword': 'Bisheriges Passwort',

	'role.admin': 'Admin',
	'role.manager': 'Führungskraft',
	'role.learner': 'Lernende',

	'login.title': 'Anmelden',
	'login.intro': 'Melden Sie sich mit E-Mail-Adresse und Passwort an.',
	'login.submit': 'Anmelden',
	'login.wrong': 'E-Mail oder Passwort ist falsch.',
	'login.throttled': 'Zu viele fehlgeschlagene Anmeldungen. Bitte in ' +
		'{minutes} Min. noch einmal versuchen.',
	'login.forgot': 'Passwort vergessen?',
	'login.forgotHint': 'Wir senden einen Link für ein neues Passwort ' +
		'an Ihre Adresse, wenn sie zu einem Konto gehört.',
	'login.sendLink': 'Link senden',
	'login.back': 'Zurück zur Anmeldung',
	'login.linkSent': 'Wenn die Adresse zu einem Konto gehört, ist ein ' +
		'Link unterwegs.',

	'password.title': 'Passwort festlegen',
	'password.rule': 'Mindestens 8 Zeichen.',
	'password.submit': 'Passwort speichern',
	'password.short': 'Das Passwort braucht mindestens 8 Zeichen.',
	'password.mismatch': 'Die beiden Passwörter stimmen nicht überein.',
	'password.gone': 'Dieser Link wurde schon benutzt oder ist ' +
		'abgelaufen. Bitten Sie Ihre Verwaltung um einen neuen.',
	'password.noToken': 'Diese Seite braucht den Link aus Ihrer ' +
		'Einladung.',

	'profile.title': 'Profil',
	'profile.details': 'Ihre Angaben',
	'profile.save': 'Profil speichern',
	'profile.saved': 'Ihr Profil wurde gespeichert.',
	'profile.password': 'Passwort',
	'profile.changePassword': 'Passwort ändern',
	'profile.passwordChanged': 'Ihr Passwort wurde geändert.',

	'trainings.title': 'Meine Schulungen',
	'trainings.empty': 'Noch keine Schulungen. Kurse für alle finden ' +
		'Sie im Katalog:',

	'course.back': 'Zurück zur Übersicht',
	'course.due': 'Fällig am',
	'course.noDue': 'Ohne Fälligkeit',
	'course.progress': 'Fortschritt',
	'course.open': 'Öffnen',
	'course.allDone': 'Alle Lektionen abgeschlossen',
	'course.continue': 'Weiter',
	'course.lessons': 'Lektionen',
	'course.changes': 'Was sich geändert hat',
	'course.retrain': 'neu zu bearbeiten',

	'catalog.title': 'Katalog',
	'catalog.intro': 'Kurse, in die Sie sich selbst einschreiben können.',
	'catalog.empty': 'Zurzeit ist kein Kurs zur Einschreibung offen.',
	'catalog.enroll': 'Einschreiben',
	'catalog.enrolled': 'Sie sind eingeschrieben.',
	'catalog.minutes': 'Etwa {n} Minuten',

	'lesson.quiz': 'Test',
	'lesson.completed': 'Abgeschlossen',
	'lesson.changed': 'Geändert',
	'lesson.changedHint': 'Diese Lektion hat sich geändert, seit Sie ' +
		'sie abgeschlossen haben.',
	'lesson.markDone': 'Als abgeschlossen markieren',
	'lesson.isDone': 'Abgeschlossen',
	'lesson.previous': 'Vorige Lektion',
	'lesson.next': 'Nächste Lektion',
	'lesson.overview': 'Kursübersicht',
	'lesson.pager': 'Lektionen',

	'quiz.pass': 'Bestanden ab {n} %. Kreuzen Sie jede richtige ' +
		'Antwort an.',
	'quiz.submit': 'Antworten abgeben',
	'quiz.passed': 'Bestanden',
	'quiz.failed': 'Nicht bestanden',
	'quiz.score': 'Ergebnis: {n} %',
	'quiz.doneBefore': 'Sie haben diesen Test bestanden.',

	'admin.nav': 'Verwaltung',
	'admin.users': 'Benutzer',
	'admin.groups': 'Gruppen',
	'admin.assignments': 'Zuweisungen',
	'admin.enrollment': 'Selbsteinschreibung',
	'admin.import': 'CSV-Import',
	'admin.branding': 'Erscheinungsbild',

	'users.new': 'Neuer Benutzer',
	'users.create': 'Benutzer anlegen',
	'users.created': 'Benutzer {email} angelegt.',
	'users.attributes': 'Merkmale',
	'users.attributesHint': 'Eines pro Zeile, z. B. abteilung=Pflege',
	'users.attrLine': 'Nicht schluessel=wert: {line}',
	'users.actions': 'Aktionen',
	'users.invite': 'Einladen',
	'users.inviteFor': 'Einladung für {email}',
	'users.inviteLink': 'Einladungslink',
	'users.expires': 'Gültig bis {when}. Senden Sie ihn der Person; er ' +
		'funktioniert einmal.',
	'users.copy': 'Link kopieren',
	'users.copied': 'Link kopiert.',
	'users.copyByHand': 'Der Link ist markiert: mit Strg+C kopieren.',

	'groups.list': 'Alle Gruppen',
	'groups.empty': 'Noch keine Gruppen.',
	'groups.member1': '(1 Mitglied)',
	'groups.members': '({n} Mitglieder)',
	'groups.new': 'Neue Gruppe',
	'groups.parent': 'Übergeordnete Gruppe',
	'groups.noParent': '(keine: oberste Ebene)',
	'groups.rule': 'Regel',
	'groups.ruleHint': 'Benutzer, deren Merkmale alle Bedingungen ' +
		'erfüllen, werden automatisch Mitglied.',
	'groups.attribute': 'Merkmal',
	'groups.value': 'Wert',
	'groups.addCondition': 'Bedingung hinzufügen',
	'groups.removeCondition': 'Bedingung entfernen',
	'groups.create': 'Gruppe anlegen',
	'groups.created': 'Gruppe {name} angelegt.',
	'groups.noRule': 'Keine Regel: Mitglieder werden von Hand ' +
		'hinzugefügt.',
	'groups.memberList': 'Mitglieder',
	'groups.addWho': 'E-Mail oder Nummer der Person',
	'groups.addMember': 'Mitglied hinzufügen',
	'groups.removeMember': 'Entfernen',
	'groups.byRule': 'durch Regel',
	'groups.delete': 'Gruppe löschen',
	'groups.confirmDelete': 'Gruppe {name} löschen? Untergruppen ' +
		'rücken auf, ihre Zuweisungen enden.',

	'assign.new': 'Neue Zuweisung',
	'assign.course': 'Kurs',
	'assign.group': 'Gruppe',
	'assign.noGroup': '(keine Gruppe: eine einzelne Person)',
	'assign.user': 'Benutzer',
	'assign.userHint': 'E-Mail einer Person, statt einer Gruppe.',
	'assign.due': 'Fällig am',
	'assign.submit': 'Zuweisen',
	'assign.oneOf': 'Wählen Sie eine Gruppe oder eine Person, nicht ' +
		'beides.',
	'assign.done': 'Zuweisung gespeichert.',
	'assign.list': 'Bestehende Zuweisungen',
	'assign.empty': 'Noch keine Zuweisungen.',
	'assign.to': 'Zugewiesen an',

	'assign.openLegend': 'Im Katalog offen',
	'assign.openHint': 'In einen angekreuzten Kurs kann sich jede ' +
		'angemeldete Person einschreiben.',
	'assign.opened': '{title} ist zur Einschreibung offen.',
	'assign.closed': '{title} ist nicht mehr zur Einschreibung offen.',
	'enrollment.none': 'Die Akademie hat noch keinen Kurs.',
	'import.intro': 'Eine CSV-Datei mit Kopfzeile: email, name, role ' +
		'und beliebige Merkmalsspalten. Bestehende Benutzer (nach ' +
		'E-Mail) werden aktualisiert.',
	'import.file': 'CSV-Datei',
	'import.hint': 'UTF-8, durch Kommas oder Semikolons getrennt.',
	'import.dry': 'Probelauf',
	'import.submit': 'Importieren',
	'import.noFile': 'Bitte zuerst eine CSV-Datei wählen.',
	'import.counts': 'Neu: {created}, geändert: {updated}, ' +
		'unverändert: {unchanged}.',
	'import.dryOk': 'Probelauf: Die Datei ist in Ordnung, nichts wurde ' +
		'geändert.',
	'import.done': 'Import abgeschlossen.',
	'import.failed': '{n} Zeilen haben Fehler; nichts wurde geändert.',
	'import.line': 'Zeile {n}',

	'branding.name': 'Name der Akademie',
	'branding.primary': 'Hauptfarbe',
	'branding.accent': 'Akzentfarbe',
	'branding.language': 'Standardsprache',
	'branding.logo': 'Logo',
	'branding.logoHint': 'PNG, JPEG oder WebP, höchstens 512 KiB.',
	'branding.current': 'Aktuelles Logo',
	'branding.removeLogo': 'Logo entfernen',
	'branding.css': 'Eigenes CSS',
	'branding.cssHint': 'Höchstens 64 KiB; gilt für alle Seiten.',
	'branding.save': 'Erscheinungsbild speichern',
	'branding.saved': 'Erscheinungsbild gespeichert.',
};
